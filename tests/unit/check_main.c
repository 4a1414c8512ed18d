// check_main.c -- runs every unit suite of the compiler.
//
//   build/check_netc                 all suites
//   CK_RUN_SUITE=shape build/check_netc   one suite (Check's own variable)
//   CK_FORK=no gdb build/check_netc  debug a failure in-process
#include <check.h>
#include <stdlib.h>

Suite *make_lexer_suite(void);
Suite *make_parser_suite(void);
Suite *make_shape_suite(void);
Suite *make_elab_suite(void);
Suite *make_diag_suite(void);
Suite *make_rf_suite(void);
Suite *make_cost_suite(void);
Suite *make_fuse_suite(void);
Suite *make_memplan_suite(void);
Suite *make_report_suite(void);
Suite *make_dot_suite(void);
Suite *make_ops_suite(void);
Suite *make_emit_suite(void);
Suite *make_ranges_suite(void);

int main(void) {
  SRunner *sr = srunner_create(make_lexer_suite());
  srunner_add_suite(sr, make_parser_suite());
  srunner_add_suite(sr, make_shape_suite());
  srunner_add_suite(sr, make_elab_suite());
  srunner_add_suite(sr, make_diag_suite());
  srunner_add_suite(sr, make_rf_suite());
  srunner_add_suite(sr, make_cost_suite());
  srunner_add_suite(sr, make_fuse_suite());
  srunner_add_suite(sr, make_memplan_suite());
  srunner_add_suite(sr, make_report_suite());
  srunner_add_suite(sr, make_dot_suite());
  srunner_add_suite(sr, make_ops_suite());
  srunner_add_suite(sr, make_emit_suite());
  srunner_add_suite(sr, make_ranges_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
