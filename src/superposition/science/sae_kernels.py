"""Fast paths of SAE training: products with few columns of the decoder.

A TopK SAE's codes have ``k`` non-zero values per sample among ``n_latents``, and its AuxK loss
decodes the pre-activations of the dead latents only. Both products are written densely in
:mod:`.sae` (codes with zeros times the whole decoder); when few latents take part, these
functions compute the same products from the latents that take part:

- :func:`decode_selected`: ``sum_i values[i] W[index[i]]`` per sample, one
  ``embedding_bag`` over the SAEs' stacked decoders (it never forms the rows it sums);
- :func:`dead_columns` and :func:`gather_columns`: the dead latents' pre-activations and decoder
  rows, padded to the largest count of any SAE with zeros, so that the AuxK product runs over
  them alone.

Each equals the dense product up to rounding, gradients included (``tests/test_sae_kernels.py``
against the dense reference); :func:`.sae.sae_losses` chooses the route by size
(:data:`.sae.SELECTED_DECODE`, :data:`.sae.DEAD_COLUMNS`, measured in
``benchmarks/sae_training.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def decode_selected(directions: torch.Tensor, values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Each sample's selected decoder rows, weighted by its values and summed (no bias).

    Parameters
    ----------
    directions : (n_saes, n_latents, d) torch.Tensor
        Decoder rows of each SAE.
    values : (n_saes, batch, m) torch.Tensor
        Weights of the selected latents (zeros count as unselected).
    index : (n_saes, batch, m) torch.Tensor
        Their latent indices, integers below ``n_latents``.

    Returns
    -------
    (n_saes, batch, d) torch.Tensor
        ``sum_i values[s, b, i] * directions[s, index[s, b, i]]``.
    """
    n_saes, n_latents, d = directions.shape
    _, batch, m = values.shape
    offsets = torch.arange(n_saes, device=index.device)[:, None, None] * n_latents
    flat = F.embedding_bag(
        (index + offsets).reshape(n_saes * batch, m),
        directions.reshape(n_saes * n_latents, d),
        per_sample_weights=values.reshape(n_saes * batch, m),
        mode="sum",
    )
    return flat.reshape(n_saes, batch, d)


def dead_columns(dead: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The indices of each SAE's dead latents, padded to the largest count.

    Parameters
    ----------
    dead : (n_saes, n_latents) torch.Tensor
        Boolean, dead latents.

    Returns
    -------
    index : (n_saes, m) torch.Tensor
        The dead latents of each SAE in increasing order, then padding (indices of live latents);
        ``m`` is the largest number of dead latents of any SAE.
    valid : (n_saes, m) torch.Tensor
        Boolean, False on the padding.
    """
    counts = dead.sum(dim=1)
    m = int(counts.max())
    order = torch.sort(dead.to(torch.int8), dim=1, descending=True, stable=True).indices[:, :m]
    valid = torch.arange(m, device=dead.device)[None, :] < counts[:, None]
    return order, valid


def gather_columns(pre: torch.Tensor, directions: torch.Tensor, index: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The pre-activations and decoder rows of the latents ``index`` (zeros on the padding).

    Parameters
    ----------
    pre : (n_saes, batch, n_latents) torch.Tensor
        Pre-activations (or codes).
    directions : (n_saes, n_latents, d) torch.Tensor
        Decoder rows.
    index : (n_saes, m) torch.Tensor
        Latents to keep (:func:`dead_columns`).
    valid : (n_saes, m) torch.Tensor
        Boolean, False where ``index`` is padding.

    Returns
    -------
    columns : (n_saes, batch, m) torch.Tensor
        ``pre[s, :, index[s]]``, zero where not valid.
    rows : (n_saes, m, d) torch.Tensor
        ``directions[s, index[s]]``.
    """
    batch, d = pre.shape[1], directions.shape[2]
    columns = pre.gather(2, index[:, None, :].expand(-1, batch, -1)) * valid[:, None, :].to(pre.dtype)
    rows = directions.gather(1, index[:, :, None].expand(-1, -1, d))
    return columns, rows
