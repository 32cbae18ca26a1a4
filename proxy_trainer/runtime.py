"""How a training uses its device: the tier's runtime settings (`proxy.amp`, `proxy.channels_last`,
`data.pin_memory`, `data.num_workers`, `data.persistent_workers`) resolved once against the device,
and the code that applies them.

`RuntimeSettings.resolve(proxy, data, device)` is the one place that reads them; the training loop
(`train.py`) asks the result for its autocast, its copies to the device, its model and its loader
options. `auto` is what the trainer did before the settings existed, but for one thing: loader
workers, where there are any, are now kept between epochs instead of started again (no batch
changes, see below):

| setting | auto | other values |
|---|---|---|
| `proxy.amp` | bf16 on CUDA, fp32 (no autocast) on CPU | fp32, bf16 (CUDA or CPU), fp16 (CUDA only) |
| `proxy.channels_last` | on CUDA only | true, false |
| `data.pin_memory` | on CUDA only; copies to the GPU then do not block | true (= on CUDA), false |
| `data.persistent_workers` | when `data.num_workers` > 0 | true (= when there are workers), false |

Autocast covers the training step's forward and loss (backward follows its dtypes); evaluation and
precise BN stay in fp32, as before. bf16 on a CPU needs inputs above 64 px: with torch 2.14.1 the
CPU bf16 backward of a 3x3 stride-2 conv whose input is 1x1 (at 64 px, SpineNet's L6 -> L7
resampling) gives garbage weight gradients, so losses turn NaN at random. At 128 px the coco512
model's bf16 CPU losses were the same in repeated runs, as fp32 ones are. channels_last puts the model's weights and, through a forward
pre-hook on its `backbone`, every input batch in NHWC.

None of them changes what trains: on a CPU with the defaults a run is bit-identical to one from
before, and `OrderKeepingLoader` keeps a run's shuffling and global random stream the same whether
its workers persist or not. Autocast and channels_last change float rounding only, so all of them
are provenance's `LOCAL_SETTINGS` (the argument is in `provenance.py`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader

from proxy_trainer.config import AUTO, ConfigError, DataConfig, ProxyConfig

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}


@dataclass(frozen=True)
class RuntimeSettings:
    """A run's runtime settings with every `auto` resolved for its device."""

    device: torch.device
    amp: torch.dtype | None  # autocast dtype of the training step; None: full precision
    channels_last: bool  # model weights and the backbone's input batch in channels_last
    pin_memory: bool  # loaders pin their batches; copies to the device do not block
    num_workers: int  # loader worker processes
    persistent_workers: bool  # loaders keep their workers between epochs

    @classmethod
    def resolve(cls, proxy: ProxyConfig, data: DataConfig | None, device: torch.device) -> RuntimeSettings:
        """The settings of `proxy` and `data` (None: the default loader settings, for callers that
        build a model only) on `device`.

        Raises:
            ConfigError: `proxy.amp=fp16` on a device that is not CUDA.
        """
        data = data or DataConfig()
        cuda = device.type == "cuda"
        amp = ("bf16" if cuda else "fp32") if proxy.amp == AUTO else proxy.amp
        if amp == "fp16" and not cuda:
            raise ConfigError(f"proxy.amp is fp16 but the device is {device.type}; fp16 autocast needs CUDA: "
                              "use bf16 or fp32")
        return cls(
            device=device,
            amp=AMP_DTYPES[amp],
            channels_last=cuda if proxy.channels_last == AUTO else proxy.channels_last,
            pin_memory=cuda and data.pin_memory is not False,
            num_workers=data.num_workers,
            persistent_workers=data.num_workers > 0 and data.persistent_workers is not False,
        )

    def autocast(self):
        """The context of the training step's forward and loss: autocast to `amp`, or nothing."""
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp)

    def to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        """A batch tensor on the device (without blocking when the loader pinned it)."""
        return tensor.to(self.device, non_blocking=self.pin_memory)

    def prepare_model(self, model: nn.Module) -> nn.Module:
        """The model on the device; in channels_last, its weights and (a forward pre-hook on its
        `backbone`, or the model itself) every 4-d input batch too."""
        model = model.to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
            getattr(model, "backbone", model).register_forward_pre_hook(_channels_last_inputs)
        return model

    def loader_options(self) -> dict:
        """`DataLoader` keyword arguments: workers, pinning, persistence."""
        return {"num_workers": self.num_workers, "pin_memory": self.pin_memory,
                "persistent_workers": self.persistent_workers}

    def describe(self) -> dict:
        """The resolved settings as plain values (for logs and benchmark JSON)."""
        return {"device": str(self.device), "amp": _amp_name(self.amp), "channels_last": self.channels_last,
                "pin_memory": self.pin_memory, "num_workers": self.num_workers,
                "persistent_workers": self.persistent_workers}


def _amp_name(dtype: torch.dtype | None) -> str:
    return next(name for name, value in AMP_DTYPES.items() if value == dtype)


def _channels_last_inputs(module: nn.Module, args: tuple):
    return tuple(a.contiguous(memory_format=torch.channels_last) if isinstance(a, torch.Tensor) and a.dim() == 4
                 else a for a in args)


class OrderKeepingLoader(DataLoader):
    """A `DataLoader` whose random streams do not depend on `persistent_workers`.

    Every new iterator draws one number from the loader's generator (the global generator when it
    has none) to seed its workers, before the sampler shuffles. Persistent workers keep their
    iterator, so from the second epoch on that draw is missing and the shuffled order (and, for an
    unshuffled loader, the global stream that dropout and the like read) would differ from a run
    without them. Here a reused iterator makes the same draw first, so the batches are the same
    either way. A dataset that delivers uint8 images (`deliver_uint8`, set for loaders with
    workers) gets them converted to float here, in the training process, after the handover.
    """

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0 and self._iterator is not None:
            torch.empty((), dtype=torch.int64).random_(generator=self.generator)
        iterator = super().__iter__()
        if getattr(self.dataset, "deliver_uint8", False):  # workers hand over uint8; floats made here
            from proxy_trainer.data.images import float_images

            return map(float_images, iterator)
        return iterator
