"""The methods under test, on the arrays the other wings provide.

- :mod:`.toy`: toy models of superposition (batched over instances)
- :mod:`.sae`: sparse autoencoders (batched over replicates) and their presets
- :mod:`.sae_kernels`: fast paths of SAE training (decoding few latents, the dead latents' columns)
- :mod:`.basis_pursuit`: batched basis-pursuit solvers
- :mod:`.certificates`: exact verdicts on basis-pursuit solutions (dual certificates)
- :mod:`.conditions`: Paper A's conditions (neurons, SAE codes, untrained SAEs) and the change table over SAE replicates
- :mod:`.layer_saes`: SAEs on many network layers at once (grouped by width, replicated) and conditions scored on every replicate
- :mod:`.amortisation`: SAEs against optimal sparse inference
- :mod:`.identifiability`: latents on a sphere, an invertible generator, batched encoders, R² probes
- :mod:`.additivity`: additivity statistics with object-level bootstrap and permutation tests
- :mod:`.intrusion`: automated word and image intrusion
- :mod:`.theory`: closed forms (phase transitions, capacity rules)
"""

__all__ = [
    "additivity",
    "amortisation",
    "basis_pursuit",
    "certificates",
    "conditions",
    "identifiability",
    "intrusion",
    "layer_saes",
    "sae",
    "sae_kernels",
    "theory",
    "toy",
]
