// Linked into the sanitizer builds only (make test-asan). Open MPI dlcloses its
// component plugins (mca_*.so) in MPI_Finalize, so LeakSanitizer, which reports at
// exit, finds their allocations in an "<unknown module>" that no suppression can
// name. Keeping every module mapped lets tests/asan/lsan.supp match Open MPI's own
// leaks by library name, and only those. The executable's definition takes
// precedence over libc's for every library (--export-dynamic-symbol=dlclose).
int dlclose(void *handle);

int dlclose(void *handle) {
    (void)handle;
    return 0;
}
