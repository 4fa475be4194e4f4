{
  # Built by scripts/build-native.mjs (run from `npm install`/`npm ci`), never by npm itself:
  # a failed build must leave modelauto working on the JS kernels.
  "variables": {
    "ma_common_cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off", "-fPIC", "-Wall", "-Wno-unused-parameter"]
  },
  "target_defaults": {
    "cflags!": ["-fno-exceptions", "-O2", "-O0"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags": ["<@(ma_common_cflags)"],
    "cflags_cc": ["-std=c++17", "-fexceptions"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "OTHER_CFLAGS": ["<@(ma_common_cflags)"],
      "MACOSX_DEPLOYMENT_TARGET": "11.0"
    },
    "conditions": [
      ["target_arch=='x64'", {"defines": ["MODELAUTO_HAVE_AVX2=1", "MODELAUTO_HAVE_AVX512=1"]}]
    ]
  },
  "targets": [
    {
      "target_name": "modelauto_native",
      "sources": [
        "src/addon.cc",
        "src/bind_matmul.cc",
        "src/bind_elementwise.cc",
        "src/bind_optim.cc",
        "src/bind_conv.cc",
        "src/conv.cc",
        "src/conv_direct.cc",
        "src/kernels_portable.cc",
        "src/optim.cc",
        "src/elementwise.cc",
        "src/reduce.cc",
        "src/cpu_features.cc",
        "src/gemm.cc",
        "src/thread_pool.cc",
        "src/ukernel_portable.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "conditions": [
        ["target_arch=='x64'", {"dependencies": ["modelauto_avx2", "modelauto_avx512"]}]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          # Only these translation units may use AVX2/FMA instructions; callers check CPUID first.
          "target_name": "modelauto_avx2",
          "type": "static_library",
          "sources": ["src/ukernel_avx2.cc", "src/kernels_avx2.cc"],
          "cflags": ["-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CFLAGS": ["<@(ma_common_cflags)", "-mavx2", "-mfma"]}
        },
        {
          "target_name": "modelauto_avx512",
          "type": "static_library",
          "sources": ["src/ukernel_avx512.cc", "src/optim_avx512.cc", "src/kernels_avx512.cc"],
          "cflags": ["-mavx512f", "-mfma"],
          "xcode_settings": {"OTHER_CFLAGS": ["<@(ma_common_cflags)", "-mavx512f", "-mfma"]}
        }
      ]
    }]
  ]
}
