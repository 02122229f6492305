#!/usr/bin/env python3
"""Serve a GGUF model with llama.cpp's HTTP server (the `xllamacpp` wheel) on 127.0.0.1.

Used by scripts/local-model.sh. The server lives as long as this process; SIGTERM or SIGINT
stops it. Parameters are `xllamacpp.CommonParams` fields (see ../shared/REAL-MODEL.md).
"""

import argparse
import signal
import sys
import threading


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True, help="path of the GGUF file")
    ap.add_argument("--alias", default="local-model", help="model id the API reports")
    ap.add_argument("--port", type=int, default=8089)
    ap.add_argument("--n-ctx", type=int, default=8192, help="KV cache shared by all slots")
    ap.add_argument("--n-parallel", type=int, default=2, help="slots (requests at once)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--embedding", action="store_true",
                    help="serve /v1/embeddings instead of chat (mean pooling, the OpenAI-compatible one)")
    args = ap.parse_args()

    import xllamacpp  # imported late so that --help works without the wheel

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_ctx = args.n_ctx
    params.n_parallel = args.n_parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.n_threads_http = 2
    params.use_jinja = True
    params.warmup = False
    params.endpoint_metrics = True  # /metrics: the server's own token counters
    if args.embedding:
        # The default pooling is refused on /v1/embeddings ("Pooling type 'none' is not OAI
        # compatible"): mean pooling is (../shared/REAL-MODEL.md, Embeddings).
        params.embedding = True
        params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = xllamacpp.Server(params)
    print(f"local model server on http://127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    stop.wait()
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
