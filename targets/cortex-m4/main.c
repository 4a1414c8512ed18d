/* main.c -- LeNet on a Cortex-M4F: the generated C (netc --weights, so the weights
 * are constant data) and the netc runtime built with -DNETC_NO_STDIO, classifying
 * a few Fashion-MNIST test images compiled in (fashion_images.h, written at build
 * time by tests/targets/fashion_images.py).
 *
 * The same file builds for the host (host.c instead of startup.c + semihost.c);
 * tests/targets/compare_logs.py compares the two outputs. Logits are printed as
 * the bits of the float (exact) and in decimal (to read). No printf: a device
 * build links none of it (tests/targets/check_cortex_m.sh checks the symbols).
 *
 * Output, one line each:
 *   netc-device lenet images N
 *   image I index K label L pred P logits 0xXXXXXXXX ... (10) | -1.2345 ...
 *   self_test error 0x... tolerance 0x... pass|FAIL      (when netc --self-test made one)
 *   stack_used BYTES
 *   done
 */
#include "device.h"
#include "fashion_images.h"
#include "lenet.h"

#include <string.h>

static lenet_model model; /* static: starts zeroed */
static float arena[LENET_ARENA_FLOATS];
static float input[LENET_INPUT_FLOATS];
static float logits[LENET_OUTPUT_FLOATS];

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
  lenet_init_embedded(&model);
  dev_puts("netc-device lenet images ");
  put_uint(FASHION_NUM_IMAGES);
  dev_puts("\n");
  for (int i = 0; i < FASHION_NUM_IMAGES; i++) {
    /* examples/fashion's preprocessing: a pixel p in 0..255 becomes p / 255. */
    for (int k = 0; k < LENET_INPUT_FLOATS; k++)
      input[k] = (float)fashion_pixels[i][k] / 255.0f;
    lenet_forward(&model, input, logits, arena);
    int pred = 0;
    for (int k = 1; k < LENET_OUTPUT_FLOATS; k++)
      if (logits[k] > logits[pred])
        pred = k;
    dev_puts("image ");
    put_uint((unsigned long)i);
    dev_puts(" index ");
    put_uint(fashion_index[i]);
    dev_puts(" label ");
    put_uint(fashion_labels[i]);
    dev_puts(" pred ");
    put_uint((unsigned long)pred);
    dev_puts(" logits");
    for (int k = 0; k < LENET_OUTPUT_FLOATS; k++) {
      dev_puts(" ");
      put_hex(logits[k]);
    }
    dev_puts(" |");
    for (int k = 0; k < LENET_OUTPUT_FLOATS; k++) {
      dev_puts(" ");
      put_fixed(logits[k]);
    }
    dev_puts("\n");
  }
  int status = 0;
#ifdef LENET_SELF_TEST_TOLERANCE
  /* netc --self-test: the model checks itself against outputs netc computed. */
  float err = lenet_self_test(&model, arena);
  int pass = err <= (float)LENET_SELF_TEST_TOLERANCE; /* false for NaN */
  dev_puts("self_test error ");
  put_hex(err);
  dev_puts(" tolerance ");
  put_hex((float)LENET_SELF_TEST_TOLERANCE);
  dev_puts(pass ? " pass\n" : " FAIL\n");
  status |= !pass;
#endif
  dev_puts("stack_used ");
  put_uint((unsigned long)dev_stack_used());
  dev_puts("\ndone\n");
  return status;
}
