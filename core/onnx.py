"""``ember.onnx``: present so that ``import torch.onnx`` lines keep working.

ember has no ONNX exporter. To get an ONNX file, save the weights with
``ember.save(model.state_dict(), path)``, load them into the same model built with
PyTorch (``model.load_state_dict(torch.load(path))``; the keys are torch's), and
export from there with ``torch.onnx.export``.
"""

_MESSAGE = ("ember cannot export to ONNX: it has no ONNX exporter. Save the weights with "
            "ember.save(model.state_dict(), path), load them into the same model built with "
            "PyTorch, and call torch.onnx.export there.")


def export(model, args, f, *more, **options):
    """Not available in ember: raises NotImplementedError explaining how to export
    through PyTorch instead."""
    raise NotImplementedError(_MESSAGE)


def _export(model, args, f, *more, **options):
    """Not available in ember (see :func:`export`)."""
    raise NotImplementedError(_MESSAGE)


def export_to_pretty_string(model, args, *more, **options):
    """Not available in ember (see :func:`export`)."""
    raise NotImplementedError(_MESSAGE)


def is_in_onnx_export():
    """Always False: ember never runs an ONNX export."""
    return False
