#!/usr/bin/env bash
# Build what a lent GPU machine needs and cannot fetch, in parts that fit one device call each.
#
#   tools/device/pack.sh [DATA_FOLDER ...]
#
# Writes .device/part-aa, part-ab, ... (at most 48 MiB each; .device/ is git-ignored) holding, as
# one xz-compressed tar: the Python 3.12 wheels of onnxruntime-gpu (the version installed here) and
# of every inference dependency the machine lacks, and each DATA_FOLDER given (e.g. the EIF stems),
# stored under data/<its name>. Send them as DEVELOPERS.md, "A lent GPU", says, then run
# tools/device/unpack.sh there. Needs pip and the package registry; runs on this machine only.
set -euo pipefail
cd "$(dirname "$0")/../.."
PART_MB=${PART_MB:-48}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ort=$(python -c 'import onnxruntime; print(onnxruntime.__version__)')
mkdir -p "$work/payload/wheels" "$work/payload/data"
# the machine has Python 3.12 and torch 2.11 with CUDA 13; nothing else can be fetched there
pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$work/payload/wheels" "onnxruntime-gpu==$ort" soundfile cffi pycparser soxr audioread \
    "typer>=0.12,<0.29" rich click shellingham markdown-it-py mdurl pygments typing_extensions numpy \
    flatbuffers protobuf packaging sympy mpmath coloredlogs humanfriendly pytest pluggy iniconfig onnx ml_dtypes
for folder in "$@"; do
    cp -rL "$folder" "$work/payload/data/$(basename "$folder")"
done
(cd "$work/payload" && find . -type f | sort > MANIFEST && sha256sum $(cat MANIFEST) > SHA256SUMS)
rm -rf .device && mkdir -p .device
tar -C "$work" -cf - payload | xz -T0 -6 | split -b "${PART_MB}M" - .device/part-
(cd .device && sha256sum part-* > PARTS.sha256)
du -ch .device/part-* | tail -1
ls .device
