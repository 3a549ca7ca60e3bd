"""llama.cpp's own HTTP server (the xllamacpp wheel) for the tests: loads the GGUF model with
the given window on a free loopback port, prints the address it listens on, and serves until
its standard input closes (the test holds the pipe; when the test ends, the server ends).

Usage: llama_server.py MODEL.gguf N_CTX ALIAS [CHAT_TEMPLATE.jinja]
"""

import sys

import xllamacpp as xlc

model, n_ctx, alias = sys.argv[1], int(sys.argv[2]), sys.argv[3]
params = xlc.CommonParams()
params.model.path = model
params.n_ctx = n_ctx
params.port = 0
params.hostnames = ["127.0.0.1"]
params.model_alias = {alias}
params.cpuparams.n_threads = 2
params.cpuparams_batch.n_threads = 2
if len(sys.argv) > 4:
    with open(sys.argv[4]) as f:
        params.chat_template = f.read()
server = xlc.Server(params)
print("listening", server.listening_address, flush=True)
sys.stdin.read()
del server
