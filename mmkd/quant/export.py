"""ONNX export of a detector's tensor part (backbone, neck, head outputs).

Post-processing (decoding, score threshold, NMS) stays in Python: the
runtime's outputs go through the head's own ``predict_by_feat``
(:class:`mmkd.quant.OnnxDetector`), so the deployed model and the PyTorch
model share one post-processing. The nesting of the head's outputs (e.g.
YOLOX: scores, boxes, objectness, each a list over levels) is stored in the
ONNX file's metadata, so the file alone says how to read its outputs.
"""
from typing import Any, Dict, List, Sequence, Tuple

import torch
from torch import Tensor, nn

#: ONNX metadata key: the number of levels of each head output, comma-separated.
OUTPUT_GROUPS_KEY = 'mmkd_output_groups'
INPUT_NAME = 'inputs'


class DetectorTensors(nn.Module):
    """A single-stage detector's ``_forward``, flattened to a tuple of tensors."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        from mmdet.models.detectors import SingleStageDetector
        if not isinstance(detector, SingleStageDetector):
            raise TypeError(f'mmkd.quant exports single-stage detectors (YOLOX, RTMDet, RetinaNet, ...); '
                            f'{type(detector).__name__} is not one')
        self.detector = detector

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        return tuple(level for group in self.detector._forward(inputs) for level in group)

    def output_groups(self, inputs: Tensor) -> List[int]:
        """How many levels each head output has, from one run on ``inputs``."""
        with torch.no_grad():
            return [len(group) for group in self.detector._forward(inputs)]


def group_outputs(flat: Sequence, groups: Sequence[int]) -> List[list]:
    """Undo :class:`DetectorTensors`' flattening: one list per head output."""
    ends = torch.tensor(list(groups)).cumsum(0).tolist()
    return [list(flat[end - size:end]) for end, size in zip(ends, groups)]


def export_onnx(detector: nn.Module, path: str, example: Tensor, opset: int = 17) -> List[int]:
    """Write ``detector``'s tensor part to ``path`` (batch, height and width
    dynamic); return the output groups stored in its metadata.

    A fake-quantised detector exports its quantisers as
    ``QuantizeLinear``/``DequantizeLinear`` pairs (the QDQ format), which
    ONNX Runtime runs with INT8 kernels; a float detector exports float.
    """
    import onnx

    from .modules import bias_overflows
    overflows = bias_overflows(detector)
    if overflows:
        raise ValueError(f'mmkd.quant: the biases of {", ".join(overflows)} do not fit int32 at their input '
                         'and weight scales, so ONNX Runtime would not compute what the fake-quantised model '
                         'does; raise activation_min_scale (a QAT config: model.scheme; PTQ: quant_scheme)')
    module = DetectorTensors(detector).eval()
    groups = module.output_groups(example)
    names = [f'output{index}_level{level}' for index, size in enumerate(groups) for level in range(size)]
    spatial = {0: 'batch', 2: 'height', 3: 'width'}
    torch.onnx.export(module, (example, ), path, input_names=[INPUT_NAME], output_names=names,
                      dynamic_axes={name: spatial for name in [INPUT_NAME, *names]},
                      opset_version=opset, dynamo=False)
    model = shorten_names(store_int8_weights(onnx.load(path)))
    onnx.helper.set_model_props(model, {OUTPUT_GROUPS_KEY: ','.join(map(str, groups))})
    onnx.save(model, path)
    return groups


def _constants(graph) -> Dict[str, Any]:
    """Every constant value of ``graph`` by name: initializers, ``Constant``
    nodes, and ``Identity`` nodes of either (how the exporter shares equal
    zero points)."""
    from onnx import numpy_helper
    values = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    for node in graph.node:  # topological order: an Identity's input is known before it
        if node.op_type == 'Constant' and node.attribute[0].name == 'value':
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        elif node.op_type == 'Identity' and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    return values


def store_int8_weights(model):
    """Replace each ``QuantizeLinear`` of a constant (the weights) by its
    integer result, so the file stores INT8 weights (a quarter of the float
    size) and ONNX Runtime reads them directly.

    The rounding is the operator's own definition (half to even of
    ``x / scale``, plus the zero point, saturated), so the graph computes
    what it computed before.
    """
    import numpy as np
    from onnx import numpy_helper
    graph = model.graph
    constants = _constants(graph)
    folded = [node for node in graph.node if node.op_type == 'QuantizeLinear'
              and all(name in constants for name in node.input)]
    for node in folded:
        weight, scale, zero_point = (constants[name] for name in node.input)
        axis = next((attr.i for attr in node.attribute if attr.name == 'axis'), 1)
        shape = [-1 if dim == axis % weight.ndim else 1 for dim in range(weight.ndim)] if scale.ndim else []
        info = np.iinfo(zero_point.dtype)
        quantized = np.clip(np.rint(weight / scale.reshape(shape)) + zero_point.reshape(shape), info.min, info.max)
        graph.initializer.append(numpy_helper.from_array(quantized.astype(zero_point.dtype), node.output[0]))
        graph.node.remove(node)
    used = {name for node in graph.node for name in node.input}
    for tensor in [tensor for tensor in graph.initializer if tensor.name not in used]:
        graph.initializer.remove(tensor)
    return model


def shorten_names(model):
    """Rename each node and each internal tensor of ``model``'s graph to a
    short hexadecimal index; the graph's inputs and outputs keep their names.

    The exporter names tensors and nodes by module path
    (``/detector/backbone/stem/conv/conv/QuantizeLinear_output_0``): on the
    NEON student they were 0.37 MB of the INT8 file's 0.42 MB of graph,
    next to 2.26 MB of weights. The runtime binds only the inputs and outputs by name.
    """
    graph = model.graph
    kept = {value.name for value in (*graph.input, *graph.output)}
    short: Dict[str, str] = {}

    def rename(name: str) -> str:
        if not name or name in kept:  # '' is an omitted optional input
            return name
        return short.setdefault(name, format(len(short), 'x'))

    for tensor in graph.initializer:
        tensor.name = rename(tensor.name)
    for info in graph.value_info:
        info.name = rename(info.name)
    for index, node in enumerate(graph.node):
        node.name = format(index, 'x')
        node.doc_string = ''
        for names in (node.input, node.output):
            renamed = [rename(name) for name in names]
            del names[:]
            names.extend(renamed)
    return model
