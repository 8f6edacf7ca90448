import CNNKit
print(BackendRegistry.shared.names)
