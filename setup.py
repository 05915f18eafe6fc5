from setuptools import find_packages, setup

setup(
    name='mmkd',
    version='0.1.0',
    description='Knowledge distillation for MMDetection 3.x detectors',
    packages=find_packages(include=['mmkd', 'mmkd.*']),
    python_requires='>=3.9',
    install_requires=[
        'torch==2.13.0',
        'mmengine==0.10.7',
        'mmcv==2.1.0',
        'mmdet==3.3.0',
        'pycocotools',
        'numpy',
    ],
    extras_require={
        # INT8 export and inference (mmkd.quant, tools/deploy.py): `MMKD_EXTRAS=quant bash tools/install.sh`
        'quant': ['onnx==1.23.2', 'onnxruntime==1.32.0'],
    },
)
