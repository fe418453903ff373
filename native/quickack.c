/*
 * quickack: a tiny N-API addon that sets TCP_QUICKACK (and TCP_NODELAY) on a socket's file
 * descriptor. Node's net API reaches the fd (socket._handle.fd) but cannot set this option.
 *
 * Linux clears TCP_QUICKACK by itself (it re-enters delayed-ACK "pingpong" mode when it sees
 * request/response traffic), so the caller re-arms it before every read; see src/net/quickack.ts.
 *
 * Exports:
 *   setQuickAck(fd: number): boolean            setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, 1)
 *   setNoDelayAndQuickAck(fd: number): boolean  TCP_NODELAY = 1, then TCP_QUICKACK = 1
 *   supported: boolean                          false where the platform has no TCP_QUICKACK
 * Both functions return false (never throw) on a bad argument or a failed setsockopt.
 */
#define NAPI_VERSION 4
#include <node_api.h>

#ifdef _WIN32
/* No TCP_QUICKACK on Windows: the functions build and always return false. */
#else
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

#if !defined(_WIN32) && defined(TCP_QUICKACK)
#define QA_SUPPORTED 1
#else
#define QA_SUPPORTED 0
#endif

static napi_value make_bool(napi_env env, int value) {
  napi_value result = NULL;
  napi_get_boolean(env, value ? true : false, &result);
  return result;
}

/* The first argument as a file descriptor (an integral number >= 0), or -1. */
static int fd_argument(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type;
  double number;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return -1;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_number) return -1;
  if (napi_get_value_double(env, argv[0], &number) != napi_ok) return -1;
  if (!(number >= 0 && number <= 2147483647.0) || number != (double)(int)number) return -1;
  return (int)number;
}

#if !defined(_WIN32)
static int set_int_option(int fd, int level, int name) {
  int one = 1;
  return setsockopt(fd, level, name, &one, (socklen_t)sizeof one) == 0;
}
#endif

static napi_value set_quick_ack(napi_env env, napi_callback_info info) {
  int fd = fd_argument(env, info);
#if QA_SUPPORTED
  return make_bool(env, fd >= 0 && set_int_option(fd, IPPROTO_TCP, TCP_QUICKACK));
#else
  (void)fd;
  return make_bool(env, 0);
#endif
}

static napi_value set_no_delay_and_quick_ack(napi_env env, napi_callback_info info) {
  int fd = fd_argument(env, info);
#if QA_SUPPORTED
  return make_bool(env, fd >= 0 && set_int_option(fd, IPPROTO_TCP, TCP_NODELAY) &&
                            set_int_option(fd, IPPROTO_TCP, TCP_QUICKACK));
#else
  (void)fd;
  return make_bool(env, 0);
#endif
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"setQuickAck", NULL, set_quick_ack, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setNoDelayAndQuickAck", NULL, set_no_delay_and_quick_ack, NULL, NULL, NULL, napi_enumerable, NULL},
      {"supported", NULL, NULL, NULL, NULL, make_bool(env, QA_SUPPORTED), napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
