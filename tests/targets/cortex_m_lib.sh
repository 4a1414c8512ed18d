# cortex_m_lib.sh -- what check_cortex_m.sh and check_cortex_m_int8.sh share (sourced, not run):
#   bad_symbols FILE   the forbidden symbols FILE defines or needs (heap, file I/O, printf family,
#                      exit...), space-separated; empty when it has none
#   run_device ELF LOG HOST HOSTLOG   ELF on QEMU (timeout, exit status 0), HOST on this machine
#   elf_sizes TAG ELF LOG             flash and RAM from ELF's sections, the stack LOG says it used
# Needs: fail (the caller's), CM4_CC, CM4_QEMU, QEMU_TIMEOUT.
nm=${CM4_CC%gcc}nm
size=${CM4_CC%gcc}size

# Exact names, plus anything with printf or scanf in it.
forbidden='^(malloc|free|calloc|realloc|_malloc_r|_free_r|_calloc_r|_realloc_r|_sbrk|_sbrk_r|sbrk|fopen|_fopen_r|fclose|_fclose_r|fread|_fread_r|fwrite|_fwrite_r|fputs|puts|fputc|putchar|fgetc|fflush|_write|_read|_open|_close|_lseek|_fstat|__assert_func|abort|exit)$|printf|scanf'
bad_symbols() { "$nm" "$1" | awk '{print $NF}' | grep -E "$forbidden" | sort -u | tr '\n' ' '; }

# Semihosting writes to QEMU's stderr.
run_device() {
  # shellcheck disable=SC2086
  timeout "$QEMU_TIMEOUT" $CM4_QEMU -kernel "$1" > "$2" 2>&1
  rc=$?
  [ $rc = 124 ] && { cat "$2"; fail "$1: QEMU did not finish within $QEMU_TIMEOUT s"; }
  [ $rc = 0 ] || { cat "$2"; fail "$1: the Cortex-M4 program exited with status $rc"; }
  "$3" > "$4"
  rc=$?
  [ $rc = 0 ] || { cat "$4"; fail "$3: the x86 build exited with status $rc"; }
}

# Flash: vectors, text, rodata, exidx and data's initial values; RAM: data, bss, reserved stack.
elf_sizes() {
  "$size" -A "$2" | awk -v tag="$1" -v used="$(sed -n 's/^stack_used //p' "$3")" '
    { s[$1] = $2 }
    END {
      flash = s[".vectors"] + s[".text"] + s[".rodata"] + s[".ARM.exidx"] + s[".data"]
      ram = s[".data"] + s[".bss"] + s[".stack"]
      printf "%s: flash %d bytes (%.1f KiB: text %d, rodata %d incl. the weights, vectors+exidx+data %d)\n",
             tag, flash, flash / 1024, s[".text"], s[".rodata"], s[".vectors"] + s[".ARM.exidx"] + s[".data"]
      printf "%s: RAM %d bytes (%.1f KiB: data %d, bss %d incl. the arena, stack %d reserved, %d used)\n",
             tag, ram, ram / 1024, s[".data"], s[".bss"], s[".stack"], used
    }'
}
