# The tc fast path (libnativeroute/bpf/nr_fast.bpf.c): compiled with clang
# -target bpf at build time and turned into a libbpf skeleton header
# (bpftool gen skeleton) that bpf_tc.c includes; the object is embedded in
# the library, nothing is installed or loaded from disk. Only uapi headers
# are used (no vmlinux.h), so a fresh clone builds anywhere linux-libc-dev,
# clang and bpftool are installed.
find_program(NR_CLANG NAMES clang clang-14 REQUIRED)
find_program(NR_BPFTOOL bpftool PATHS /usr/sbin /sbin REQUIRED)
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                OUTPUT_VARIABLE NR_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
set(NR_BPF_SRC ${PROJECT_SOURCE_DIR}/libnativeroute/bpf/nr_fast.bpf.c)
set(NR_BPF_OBJ ${PROJECT_BINARY_DIR}/generated/nr_fast.bpf.o)
set(NR_BPF_SKEL ${PROJECT_BINARY_DIR}/generated/nr_fast.skel.h)
set(NR_BPF_INCLUDES -I${PROJECT_SOURCE_DIR}/include)
if(NR_MULTIARCH)
  list(APPEND NR_BPF_INCLUDES -I/usr/include/${NR_MULTIARCH}) # asm/types.h
endif()
add_custom_command(OUTPUT ${NR_BPF_OBJ}
  COMMAND ${NR_CLANG} -g -O2 -target bpf -Wall -Werror ${NR_BPF_INCLUDES}
          -c ${NR_BPF_SRC} -o ${NR_BPF_OBJ}
  DEPENDS ${NR_BPF_SRC} ${PROJECT_SOURCE_DIR}/include/nativeroute/bpf.h
  COMMENT "clang -target bpf nr_fast.bpf.c" VERBATIM)
add_custom_command(OUTPUT ${NR_BPF_SKEL}
  COMMAND sh -c "'${NR_BPFTOOL}' gen skeleton '${NR_BPF_OBJ}' name nr_fast > '${NR_BPF_SKEL}.tmp' && mv '${NR_BPF_SKEL}.tmp' '${NR_BPF_SKEL}'"
  DEPENDS ${NR_BPF_OBJ}
  COMMENT "bpftool gen skeleton nr_fast" VERBATIM)
add_custom_target(nr_bpf_skeleton DEPENDS ${NR_BPF_SKEL})
add_dependencies(nr_objects nr_bpf_skeleton)
