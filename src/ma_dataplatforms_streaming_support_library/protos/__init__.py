"""Generated Open Data, Stream API and key-generator protobuf code (scripts/generate_protos.py)."""

__all__ = ["api_pb2", "key_generator_pb2", "open_data_pb2"]
