"""INT8 quantisation (mmkd.quant): PTQ, QAT with the distillation hook, ONNX Runtime export.

Needs the ``quant`` extra (``MMKD_EXTRAS=quant bash tools/install.sh``); skipped without it.
"""
from pathlib import Path

import pytest
import torch
from mmcv.cnn import ConvModule
from torch import nn

onnx = pytest.importorskip('onnx')
onnxruntime = pytest.importorskip('onnxruntime')

from utils import REPO, distill_hook_cfg, find_distill_hook, load, load_config, train  # noqa: E402

from mmkd.engine.teacher import build_detector, load_weights  # noqa: E402
from mmkd.quant import OnnxDetector, QuantConv2d, QuantSiLU, calibrate, calibration_dataloader, prepare_qat  # noqa: E402
from mmkd.quant.deploy import deploy, example_inputs  # noqa: E402
from mmkd.quant.modules import quantizers, set_fake_quant, set_observers  # noqa: E402


@pytest.fixture(scope='module')
def ptq(tmp_path_factory, synth_root, teacher_checkpoint):
    """The trained test teacher quantised after training (PTQ on 8 training images), exported and evaluated."""
    work_dir = tmp_path_factory.mktemp('ptq')
    cfg = load_config('yolox_tiny_teacher_synth.py', work_dir, synth_root)
    report = deploy(cfg, str(teacher_checkpoint), str(work_dir / 'int8.onnx'), calib_images=8,
                    save_calibrated=str(work_dir / 'calibrated.pth'))
    return cfg, report, work_dir


def test_ptq_artifact_runs_int8_kernels_and_keeps_the_map(ptq):
    cfg, report, work_dir = ptq
    assert report.calibration_batches == 2  # 8 images, val batch size 4
    assert report.float_metrics is not None  # the reference of the PTQ drop
    assert report.gap() <= 0.005  # the bound between the INT8 artifact and the fake-quantised model
    options = onnxruntime.SessionOptions()
    options.optimized_model_filepath = str(work_dir / 'optimized.onnx')
    onnxruntime.InferenceSession(report.artifact, options, providers=['CPUExecutionProvider'])
    ops = [node.op_type for node in onnx.load(options.optimized_model_filepath).graph.node]
    calibrated = build_detector(cfg)
    prepare_qat(calibrated)
    load_weights(calibrated, str(work_dir / 'calibrated.pth'), 'calibrated')
    convs = sum(isinstance(module, QuantConv2d) for module in calibrated.modules())
    assert 'Conv' not in ops and ops.count('QLinearConv') == convs  # every conv runs as an INT8 kernel
    stored = onnx.load(report.artifact).graph.initializer
    assert sum(tensor.data_type == onnx.TensorProto.INT8 and len(tensor.dims) == 4 for tensor in stored) == convs
    float_bytes = sum(param.numel() * 4 for param in calibrated.parameters())
    assert report.artifact_bytes < float_bytes / 3.5  # the 3.5x: INT8 weights, short names


def test_exported_outputs_match_the_fake_quantised_model(ptq):
    """ONNX Runtime accumulates each convolution exactly in int32 and
    requantises it; the fake-quantised PyTorch model (bias rounded alike,
    ``QuantConv2d.quantized_bias``) convolves dequantised values in float32.
    Near ties sometimes land on different sides of a rounding boundary of the
    output quantiser (measured before the bias rounding: 0.01-0.1% of one
    conv block's outputs differ by one conv step, 2-3 steps after the
    quantised SiLU). Those flips feed later
    layers, so at the head a third of the values differ, by a few steps at
    most: the outputs are compared in steps of their own quantiser. Scores
    (class, objectness) differ by at most one step; the box offsets, with a
    step about 20 times finer, by at most 6 and by less than one step on
    average (measured: at most 4, 0.6-0.8 on average)."""
    cfg, report, work_dir = ptq
    model = build_detector(cfg)
    prepare_qat(model)
    load_weights(model, str(work_dir / 'calibrated.pth'), 'calibrated')
    model.eval()
    inputs = example_inputs(model, cfg)
    with torch.no_grad():
        expected = model._forward(inputs)
    actual = OnnxDetector(report.artifact, model).run(inputs)
    head = model.bbox_head
    branches = (head.multi_level_conv_cls, head.multi_level_conv_reg, head.multi_level_conv_obj)
    for branch, want_levels, got_levels, max_steps in zip(branches, expected, actual, (1, 6, 1)):
        for conv, want, got in zip(branch, want_levels, got_levels):
            steps = ((want - got).abs() / conv.output_quant.scale).round()
            assert steps.max() <= max_steps and steps.mean() <= 1


def test_summation_order_rows_reevaluate_the_fake_quantised_model(ptq):
    """benchmarks/int8_summation_order.py: one row per thread count and one without oneDNN; at one thread the
    row is the fake-quantised mAP deploy reported (the same model, the same evaluation)."""
    from benchmarks.int8_summation_order import pytorch_rows
    cfg, report, work_dir = ptq
    model = build_detector(cfg)
    prepare_qat(model)
    load_weights(model, str(work_dir / 'calibrated.pth'), 'calibrated')
    threads = torch.get_num_threads()
    try:
        rows = pytorch_rows(model.eval(), cfg, [1, 2])
    finally:
        torch.set_num_threads(threads)
    assert [name for name, _ in rows] == ['PyTorch fake-quantised, 1 thread(s)', 'PyTorch fake-quantised, 2 thread(s)',
                                          'PyTorch fake-quantised, 1 thread, oneDNN off']
    assert rows[0][1] == report.maps()[0]
    assert torch.backends.mkldnn.enabled  # turned back on


def test_a_quantised_conv_with_bias_runs_in_onnx_runtime_as_simulated(tmp_path):
    """ONNX Runtime rounds a QDQ conv's float bias to int32 in units of input
    scale x weight scale when it fuses the ``QLinearConv``; the fake-quantised
    conv rounds it the same way. With the float bias (before), 122 of these
    131072 outputs were one step off; with it, none (at most a rare tie of
    the requantisation)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 16, 1)).eval()
    prepare_qat(model)
    conv = model[0]
    with torch.no_grad():
        conv.bias.uniform_(-1, 1)
    inputs = torch.randn(8, 2, 32, 32)
    set_fake_quant(model, False)
    set_observers(model, True)
    with torch.no_grad():
        model(inputs)
    set_observers(model, False)
    set_fake_quant(model, True)
    with torch.no_grad():
        expected = model(inputs)
        torch.onnx.export(model, (inputs, ), str(tmp_path / 'conv.onnx'), input_names=['x'], opset_version=17,
                          dynamo=False)
    session = onnxruntime.InferenceSession(str(tmp_path / 'conv.onnx'), providers=['CPUExecutionProvider'])
    actual = torch.from_numpy(session.run(None, {'x': inputs.numpy()})[0])
    steps = ((expected - actual).abs() / conv.output_quant.scale).round()
    assert steps.max() <= 1 and int((steps > 0).sum()) <= expected.numel() * 1e-4
    set_fake_quant(model, False)  # calibration sees the float bias
    assert torch.equal(conv.quantized_bias(), conv.bias)


def test_prepare_folds_batch_norms_quantises_silu_and_names_what_stays_float():
    model = nn.Sequential(ConvModule(3, 8, 3, padding=1, norm_cfg=dict(type='BN')),
                          nn.GroupNorm(2, 8), nn.Conv2d(8, 8, 1), nn.Flatten(), nn.Linear(8 * 4 * 4, 2),
                          nn.SiLU()).eval()
    model[0].bn.running_mean.uniform_(-1, 1)
    model[0].bn.running_var.uniform_(0.5, 2)
    inputs = torch.randn(2, 3, 4, 4)
    with torch.no_grad():
        before = model(inputs)
    report = prepare_qat(model)
    set_fake_quant(model, False)
    with torch.no_grad():
        after = model(inputs)
    assert report.folded == ['0'] and report.quantized == ['0.conv', '2'] and report.activations == ['5']
    assert isinstance(model[5], QuantSiLU)
    assert report.float_modules == ['1 (GroupNorm)', '4 (Linear)']
    assert 'stay float: 1 (GroupNorm), 4 (Linear)' in report.summary()
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5)  # folding keeps the function


@pytest.fixture(scope='module')
def qat(tmp_path_factory, synth_root, teacher_checkpoint):
    """One QAT epoch (6 iterations) of the calibrated test student, distilled from the float teacher."""
    work_dir = tmp_path_factory.mktemp('qat')
    student_cfg = load_config('yolox_tiny_synth.py', work_dir, synth_root)
    student = build_detector(student_cfg)
    student.init_weights()
    prepare_qat(student)
    calibrate(student, calibration_dataloader(student_cfg, 8))
    torch.save({'state_dict': student.state_dict(), 'meta': {}}, work_dir / 'calibrated.pth')
    cfg = load_config('yolox_tiny_qat_distill_synth.py', work_dir, synth_root,
                      load_from=str(work_dir / 'calibrated.pth'))
    distill_hook_cfg(cfg)['teacher']['checkpoint'] = str(teacher_checkpoint)
    return cfg, train(cfg), work_dir


def test_qat_trains_the_fake_quantised_student_with_the_float_teacher(qat):
    cfg, runner, work_dir = qat
    assert {'train/loss_neck_mse', 'train/loss_cls_kd'} <= set(runner.message_hub.log_scalars)
    teacher = find_distill_hook(runner).teacher
    assert not any(isinstance(module, QuantConv2d) for module in teacher.modules())
    calibrated = load(work_dir / 'calibrated.pth')['state_dict']
    trained = runner.model.state_dict()
    observed = [key for key in trained if key.endswith('output_quant.activation_post_process.max_val')]
    assert any(not torch.equal(trained[key], calibrated[key]) for key in observed)  # ranges followed the batches
    assert all(int(quantizer.observer_enabled) == 0 for quantizer in quantizers(runner.model))  # frozen outside
    conv = runner.model.bbox_head.multi_level_conv_reg[0]  # weight ranges describe the last step's weights
    torch.testing.assert_close(conv.weight_quant.scale, conv.weight.detach().abs().amax(dim=(1, 2, 3)) / 127)


def test_qat_checkpoint_restores_every_quantiser_exactly(qat):
    cfg, runner, work_dir = qat
    saved = load(work_dir / 'epoch_1.pth')['state_dict']
    quant_keys = [key for key in saved if '_quant.' in key]
    assert quant_keys and any(key.endswith('weight_quant.scale') for key in quant_keys)
    restored = build_detector(cfg)
    restored.load_state_dict(saved, strict=True)
    for key, value in restored.state_dict().items():
        assert torch.equal(value, saved[key]), key


def test_qat_checkpoint_deploys_with_the_tool(qat, tmp_path):
    cfg, runner, work_dir = qat
    report = deploy(cfg, str(work_dir / 'epoch_1.pth'), str(tmp_path / 'qat.onnx'))
    assert report.calibration_batches == 0 and report.float_metrics is None and report.gap() <= 0.005
    assert Path(report.artifact).stat().st_size > 0


def test_shipped_qat_configs_build_a_quantised_student():
    from mmengine.config import Config
    for path in sorted((REPO / 'configs' / 'distill' / 'quant').glob('qat_*.py')):
        cfg = Config.fromfile(str(path))
        assert cfg.model.type == 'mmkd.QuantizedDetector', path.name
        assert 'mmkd.QuantObserverHook' in [hook['type'] for hook in cfg.custom_hooks]
        assert 'EMAHook' not in [hook['type'] for hook in cfg.custom_hooks]
        model = build_detector(cfg)
        assert any(isinstance(module, QuantConv2d) for module in model.modules())


def test_the_map_gap_is_read_at_the_metrics_3_decimals():
    from mmkd.quant.deploy import DeployReport

    def gap(pytorch: float, artifact: float) -> float:
        return DeployReport('int8.onnx', {'coco/bbox_mAP': pytorch}, {'coco/bbox_mAP': artifact}, 0).gap()

    assert 0.085 - 0.080 > 0.005  # the float difference of two reported mAPs
    assert gap(0.080, 0.085) == 0.005 and gap(0.085, 0.080) == 0.005
    assert gap(0.080, 0.086) == 0.006
    assert DeployReport('int8.onnx', {'coco/bbox_mAP': 0.01}, {}, 0).gap() == 0.01  # no detections: mAP 0
