/* main.c -- LeNet on a Cortex-M4F: the generated C (netc --weights, so the weights
 * are constant data) and the netc runtime built with -DNETC_NO_STDIO, classifying
 * a few Fashion-MNIST test images compiled in (fashion_images.h, written at build
 * time by tests/targets/fashion_images.py).
 *
 * Which net: models/lenet.net (the header lenet.h, prefix lenet_) by default; with
 * -DDEVICE_LENET_FASHION, examples/fashion's trained lenet_fashion.net (lenet_fashion.h),
 * which make check-cortex-m-int8 builds as int8 (netc --quantize int8 --weights). The
 * generated API is the same either way (float in, float out); an int8 build has no
 * self test (netc refuses --self-test with --quantize), so none is called.
 *
 * The same file builds for the host (host.c instead of startup.c + semihost.c);
 * tests/targets/compare_logs.py compares the two outputs. Logits are printed as
 * the bits of the float (exact) and in decimal (to read). No printf: a device
 * build links none of it (tests/targets/check_cortex_m.sh checks the symbols).
 *
 * Output, one line each:
 *   netc-device lenet|lenet_fashion float|int8 images N
 *   image I index K label L pred P logits 0xXXXXXXXX ... (10) | -1.2345 ...
 *   self_test error 0x... tolerance 0x... pass|FAIL      (when netc --self-test made one)
 *   correct C of N                                      (predictions equal to the labels)
 *   stack_used BYTES
 *   done
 */
#include "device.h"
#include "fashion_images.h"

#include <string.h>

/* The generated names main.c uses, for either net. */
#ifdef DEVICE_LENET_FASHION
#include "lenet_fashion.h"
#define NET_NAME "lenet_fashion"
#define net_model lenet_fashion_model
#define net_init_embedded lenet_fashion_init_embedded
#define net_forward lenet_fashion_forward
#define NET_ARENA_FLOATS LENET_FASHION_ARENA_FLOATS
#define NET_INPUT_FLOATS LENET_FASHION_INPUT_FLOATS
#define NET_OUTPUT_FLOATS LENET_FASHION_OUTPUT_FLOATS
#ifdef LENET_FASHION_INT8
#define NET_INT8 1
#endif
#ifdef LENET_FASHION_SELF_TEST_TOLERANCE
#define net_self_test lenet_fashion_self_test
#define NET_SELF_TEST_TOLERANCE LENET_FASHION_SELF_TEST_TOLERANCE
#endif
#else
#include "lenet.h"
#define NET_NAME "lenet"
#define net_model lenet_model
#define net_init_embedded lenet_init_embedded
#define net_forward lenet_forward
#define NET_ARENA_FLOATS LENET_ARENA_FLOATS
#define NET_INPUT_FLOATS LENET_INPUT_FLOATS
#define NET_OUTPUT_FLOATS LENET_OUTPUT_FLOATS
#ifdef LENET_INT8
#define NET_INT8 1
#endif
#ifdef LENET_SELF_TEST_TOLERANCE
#define net_self_test lenet_self_test
#define NET_SELF_TEST_TOLERANCE LENET_SELF_TEST_TOLERANCE
#endif
#endif

static net_model model; /* static: starts zeroed */
static float arena[NET_ARENA_FLOATS];
static float input[NET_INPUT_FLOATS];
static float logits[NET_OUTPUT_FLOATS];

static void put_uint(unsigned long v) {
  char buf[24], *p = buf + sizeof buf;
  *--p = '\0';
  do {
    *--p = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  dev_puts(p);
}

static void put_hex(float f) {
  uint32_t u;
  char buf[11] = "0x";
  memcpy(&u, &f, sizeof u);
  for (int i = 0; i < 8; i++)
    buf[2 + i] = "0123456789abcdef"[(u >> (28 - 4 * i)) & 15u];
  buf[10] = '\0';
  dev_puts(buf);
}

/* Four decimals, for people: the hex bits are what the comparison reads. */
static void put_fixed(float f) {
  if (f != f) {
    dev_puts("nan");
    return;
  }
  if (f < 0) {
    dev_puts("-");
    f = -f;
  }
  if (f >= 1e9f) {
    dev_puts("big");
    return;
  }
  unsigned long scaled = (unsigned long)(f * 10000.0f + 0.5f);
  put_uint(scaled / 10000);
  char frac[6] = ".0000";
  unsigned long r = scaled % 10000;
  for (int i = 4; i >= 1; i--, r /= 10)
    frac[i] = (char)('0' + r % 10);
  dev_puts(frac);
}

int main(void) {
  net_init_embedded(&model);
#ifdef NET_INT8
  dev_puts("netc-device " NET_NAME " int8 images ");
#else
  dev_puts("netc-device " NET_NAME " float images ");
#endif
  put_uint(FASHION_NUM_IMAGES);
  dev_puts("\n");
  unsigned long correct = 0;
  for (int i = 0; i < FASHION_NUM_IMAGES; i++) {
    /* examples/fashion's preprocessing: a pixel p in 0..255 becomes p / 255. */
    for (int k = 0; k < NET_INPUT_FLOATS; k++)
      input[k] = (float)fashion_pixels[i][k] / 255.0f;
    net_forward(&model, input, logits, arena);
    int pred = 0;
    for (int k = 1; k < NET_OUTPUT_FLOATS; k++)
      if (logits[k] > logits[pred])
        pred = k;
    correct += pred == fashion_labels[i];
    dev_puts("image ");
    put_uint((unsigned long)i);
    dev_puts(" index ");
    put_uint(fashion_index[i]);
    dev_puts(" label ");
    put_uint(fashion_labels[i]);
    dev_puts(" pred ");
    put_uint((unsigned long)pred);
    dev_puts(" logits");
    for (int k = 0; k < NET_OUTPUT_FLOATS; k++) {
      dev_puts(" ");
      put_hex(logits[k]);
    }
    dev_puts(" |");
    for (int k = 0; k < NET_OUTPUT_FLOATS; k++) {
      dev_puts(" ");
      put_fixed(logits[k]);
    }
    dev_puts("\n");
  }
  dev_puts("correct ");
  put_uint(correct);
  dev_puts(" of ");
  put_uint(FASHION_NUM_IMAGES);
  dev_puts("\n");
  int status = 0;
#ifdef NET_SELF_TEST_TOLERANCE
  /* netc --self-test: the model checks itself against outputs netc computed. */
  float err = net_self_test(&model, arena);
  int pass = err <= (float)NET_SELF_TEST_TOLERANCE; /* false for NaN */
  dev_puts("self_test error ");
  put_hex(err);
  dev_puts(" tolerance ");
  put_hex((float)NET_SELF_TEST_TOLERANCE);
  dev_puts(pass ? " pass\n" : " FAIL\n");
  status |= !pass;
#endif
  dev_puts("stack_used ");
  put_uint((unsigned long)dev_stack_used());
  dev_puts("\ndone\n");
  return status;
}
