#!/usr/bin/env bash
# On a lent GPU machine, after unpack.sh: every check of the CUDA path in one call, written to
# $OUT/cuda-checks.txt (and shown). Needs models/drnn-lite-eif.onnx and models/drnn-all.onnx in the
# tree sent (keep those two when the others are moved aside: DEVELOPERS.md, "A lent GPU").
#
#   eval "$(bash tools/device/unpack.sh | tail -1)" && bash tools/device/cuda_checks.sh
set -uo pipefail  # not -e: one failed check must not hide the others
report=${OUT:-/tmp}/cuda-checks.txt
{
    echo "== machine"; nvidia-smi -L; python3 --version
    python3 -c "import torch, onnxruntime as ort; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), '| onnxruntime', ort.__version__, ort.get_available_providers())"
    echo "== doctor"; python3 -m vocalsplit doctor
    echo "== CUDA tests"; python3 -m pytest -q -p no:cacheprovider tests/test_runtime.py 2>&1 | tail -3
    for model in drnn-lite-eif drnn-all; do
        for device in cuda cpu; do
            echo "== speed: $model on $device, 240-s song"
            python3 benchmarks/speed.py --model "$model" --device "$device" --seconds 240
        done
    done
    echo "== whole process and stages, default model on CUDA"
    python3 benchmarks/stages.py --device cuda --rounds 3
    echo "== peak memory on CUDA, default model"
    python3 benchmarks/memory.py --model drnn-lite-eif --device cuda --minutes 1 10
} 2>&1 | tee "$report"
