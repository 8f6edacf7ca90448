// libpng as a SwiftPM system library (Debian: apt-get install libpng-dev; pkg-config name `libpng`).
// Swift code does not call libpng directly: libpng reports errors by longjmp, which Swift cannot catch.
// The C target CPNGShim wraps it with setjmp and returns status codes.
#include <png.h>
