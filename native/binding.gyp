{
  "targets": [
    {
      "target_name": "quickack",
      "sources": ["quickack.c"],
      "cflags": ["-std=c99", "-Wall", "-Wextra", "-O2"],
      "xcode_settings": { "OTHER_CFLAGS": ["-std=c99", "-Wall", "-Wextra"] }
    }
  ]
}
