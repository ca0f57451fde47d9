"""Networks and their activations.

- :mod:`.cnn`: small CNNs trained here (cached by their settings)
- :mod:`.pretrained`: pretrained networks by name, and their random-weight twins
- :mod:`.sentences`: a shipped sentence encoder and its random twin
- :mod:`.activations`: hooked read-outs of any module's layers, cached
"""

__all__ = ["activations", "cnn", "pretrained", "sentences"]
