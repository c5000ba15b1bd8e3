#!/usr/bin/env bash
# On the lent GPU machine, after the parts were sent (DEVELOPERS.md, "A lent GPU"): check, join and unpack
# them in /tmp/vocalsplit-device, install the wheels there, and print what to export.
#
#   bash tools/device/unpack.sh [PARTS_FOLDER]        # default /tmp/vocalsplit-device/parts
set -euo pipefail
root=/tmp/vocalsplit-device
parts=${1:-$root/parts}
(cd "$parts" && sha256sum --quiet -c PARTS.sha256)  # every part there, none damaged
cat "$parts"/part-* | xz -d | tar -x -C "$root"
(cd "$root/payload" && sha256sum --quiet -c SHA256SUMS)
# what the machine already has (numpy, sympy... under its torch) stays as it is; onnxruntime-gpu always goes in
wheels=()
for w in "$root"/payload/wheels/*.whl; do
    dist=$(basename "$w" | cut -d- -f1)
    if [[ $dist != onnxruntime_gpu ]] && python3 -c "import importlib.metadata as m, sys; m.version(sys.argv[1])" "$dist" 2>/dev/null; then
        continue
    fi
    wheels+=("$w")
done
python3 -m pip install --quiet --no-index --no-deps --target "$root/site" ${PIP_EXTRA:-} "${wheels[@]}"
echo "installed: ${wheels[*]##*/}" >&2
echo "export PYTHONPATH=$root/site:\$PWD   # the data sent: $root/payload/data"
