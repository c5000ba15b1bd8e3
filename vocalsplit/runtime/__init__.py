"""onnxruntime sessions: provider choice, actual-provider check, chunk inference."""
