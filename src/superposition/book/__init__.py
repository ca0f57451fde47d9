"""The book's machinery: from a notebook's parameters to its published page.

- :mod:`.chapter`: one call opens a chapter (validation, device, seeding, plot style, the run)
- :mod:`.params`: parameter rules and validation, profiles (``<name>.smoke.yaml``, ``<name>.paper.yaml``)
- :mod:`.record`: the run record of a notebook (values, figures, provenance)
- :mod:`.registry`: the registry of published numbers (``book/claims.yaml``) and its checks
- :mod:`.tolerances`: the kinds of number (exact, discrete, trained) and their tolerance rules
- :mod:`.verdicts`: a claim's rule and its verdict (holds, fails, inconclusive) from an interval
- :mod:`.replicates`: replicate runs and the trained tolerances they give
- :mod:`.kernel_check`: the book on another CPU kernel path, compared with the registry
- :mod:`.pipeline`: papermill execution, run keys, the book build
- :mod:`.memory`: peak-memory estimates of the chapters, checked before a kernel starts
- :mod:`.code_keys`: the library modules a notebook imports, and their digest
- :mod:`.pages`: the generated pages (claims, status, sweeps, reproduce boxes)
- :mod:`.bundles`: runs made elsewhere, packed with their provenance and imported after checks
- :mod:`.sweeps`: parameter sweeps (``<name>.<sweep>.sweep.yaml``), run by Snakemake, gathered into a table
- :mod:`.plots`: the book's figures
- :mod:`.sphinx_offline`: the Sphinx extension that keeps the built pages offline
"""

__all__ = [
    "bundles",
    "chapter",
    "code_keys",
    "kernel_check",
    "memory",
    "pages",
    "params",
    "pipeline",
    "plots",
    "record",
    "registry",
    "replicates",
    "sphinx_offline",
    "sweeps",
    "tolerances",
    "verdicts",
]
