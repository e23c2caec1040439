{
  "targets": [
    {
      "target_name": "gpo_native",
      "sources": ["<!@(ls -1 native/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "bpf", "out/bpf"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-fno-exceptions"],
      "libraries": ["-lbpf", "-lelf", "-lz", "-lzstd", "-lpthread"]
    }
  ]
}
