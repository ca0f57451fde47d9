"""Data: everything a chapter reads, downloaded (verified against ``data_manifests/``) or generated.

- :mod:`.downloads`: the one verified downloader and the cache
- :mod:`.artifacts`: cached artifacts keyed on inputs, code, versions and device, verified on read
- :mod:`.images`: Fashion-MNIST, image folders, model inputs
- :mod:`.nsd`: the Natural Scenes Dataset loader and noise ceilings
- :mod:`.words`: GloVe vectors and analogy sets
- :mod:`.synthetic_brain`: synthetic voxels on fsaverage5 (the stand-in for fMRI)
"""

__all__ = ["artifacts", "downloads", "images", "nsd", "synthetic_brain", "words"]
