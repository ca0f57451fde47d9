"""superposition: the library behind the companion book to Longon, Klindt & Khosla (2025) and
Klindt et al. (2025). One idea per wing; imports point down this list, never up.

=============  ============================================================================
``book``       the book's machinery: notebook parameters, the run record, the registry of
               published numbers and their tolerances, papermill execution, generated pages,
               plots, replicate runs and the kernel check
``science``    the methods under test: toy models, sparse autoencoders, basis pursuit and its
               certificates, amortisation, identifiability, additivity, intrusion, closed forms
``networks``   networks and their activations: small CNNs trained here, pretrained networks,
               a sentence encoder, hooked read-outs
``metrics``    alignment metrics between representations (Paper A's protocol) and recovery
               scores against ground truth
``data``       data: the verified downloader, images, the Natural Scenes Dataset, word
               vectors, synthetic voxels
``io``         project paths and atomic writes
``runtime``    device, seeding, threads, CPU description, progress bars
=============  ============================================================================

Dependencies: ``book`` and ``science`` and ``networks`` may import ``metrics`` and ``data``;
``networks`` may import ``data``; everything may import ``io`` and ``runtime``, which import
nothing of the library (``tests/test_layout.py`` checks it).
"""

__all__ = ["book", "data", "io", "metrics", "networks", "runtime", "science"]
