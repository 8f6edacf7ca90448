// libjpeg-turbo's TurboJPEG API as a SwiftPM system library (Debian: apt-get install libturbojpeg0-dev;
// pkg-config name `libturbojpeg`). Unlike libjpeg's own API, TurboJPEG catches libjpeg's errors itself (setjmp
// inside the library) and reports them by return value and tjGetErrorStr2, so Swift calls it directly.
#include <turbojpeg.h>
