# Regenerate: python3 test/serve/data/gen-float32-format.py > test/serve/data/float32-format.json
# Reference for formatFloat32: TF Serving's WriteDecimal (json_tensor.cc) = printf("%g"), then
# printf("%.9g") when six digits do not read back as the same float32, then ".0" on whole numbers.
import json, random, struct
import numpy as np
random.seed(7)
vals = []
for _ in range(300):
    bits = random.getrandbits(32)
    f = struct.unpack('<f', struct.pack('<I', bits))[0]
    if np.isfinite(np.float32(f)): vals.append(float(np.float32(f)))
for _ in range(300):
    vals.append(float(np.float32(random.random())))
for _ in range(100):
    vals.append(float(np.float32(random.uniform(-1e7, 1e7))))
vals += [float(np.float32(v)) for v in [0.0, -0.0, 1.0, -1.0, 3.5, 4.0, 5.5, 0.1, 0.2, 1e-4, 9.99999e-5, 123456.7, 999999.9, 1e6, 1e7, 2**24, 1e-38, 3.4028234663852886e38, 1e-45, 0.333333343]]
def tf(v):
    s = '%g' % v
    if float(np.float32(float(s))) != v:
        s = '%.9g' % v
    if '.' not in s and 'e' not in s and 'inf' not in s and 'nan' not in s:
        s += '.0'
    return s
out = [{'bits': struct.unpack('<I', struct.pack('<f', v))[0], 'text': tf(v)} for v in vals]
print(json.dumps({'source': 'test/serve/data/gen-float32-format.py: printf %g, then %.9g when it does not round-trip as float32', 'cases': out}))
