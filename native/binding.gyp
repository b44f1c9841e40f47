# Built by the package's "install" script (`node-gyp rebuild -C native`), so `npm ci` compiles
# it from this source; there are no prebuilt binaries. Output: build/Release/haagent_native.node
{
  "targets": [
    {
      "target_name": "haagent_native",
      "sources": ["packet_socket.c", "vrrp6_socket.c", "sd_notify.c", "min_ttl.c", "realtime.c", "vrrp4_send.c", "netlink_filter.c", "advert_train.c", "netlink_sync.c", "errors.c", "args.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wshadow", "-Wformat=2"]
    }
  ]
}
