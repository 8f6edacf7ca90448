import CNNKit
