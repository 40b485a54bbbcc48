/*
 * seccomp-exec: runs a command under a seccomp allow list, the way systemd applies SystemCallFilter= (allow list,
 * SystemCallErrorNumber=EPERM) and RestrictAddressFamilies= (socket(2) with another family fails EAFNOSUPPORT).
 * Used only by emulate-units.sh to reproduce the units' restrictions without systemd as PID 1. x86_64 only.
 *
 *   seccomp-exec <file with one syscall number per line> <comma-separated address families> -- command [args...]
 *
 * Build: gcc -O2 -o seccomp-exec seccomp-exec.c   (needs only the kernel headers)
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_FILTER 4096

int main(int argc, char **argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: %s <syscalls file> <families> -- command [args...]\n", argv[0]);
    return 2;
  }
  struct sock_filter filter[MAX_FILTER];
  int count = 0;
#define ADD(statement) do { if (count >= MAX_FILTER - 8) { fprintf(stderr, "filter too long\n"); return 2; } filter[count++] = (struct sock_filter)statement; } while (0)
  ADD(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
  ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
  ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  ADD(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
  /* socket(2): jump to the family check at the end (patched below). */
  ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 1));
  int socket_jump = count;
  ADD(BPF_STMT(BPF_JMP | BPF_JA, 0));
  FILE *file = fopen(argv[1], "r");
  if (!file) { perror(argv[1]); return 2; }
  unsigned int number;
  while (fscanf(file, "%u", &number) == 1) {
    ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, number, 0, 1));
    ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  }
  fclose(file);
  ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  filter[socket_jump].k = (unsigned int)(count - socket_jump - 1);
  ADD(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
  char *families = strdup(argv[2]);
  for (char *token = strtok(families, ","); token; token = strtok(NULL, ",")) {
    ADD(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)atoi(token), 0, 1));
    ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  }
  ADD(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT));
  struct sock_fprog program = { .len = (unsigned short)count, .filter = filter };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("PR_SET_NO_NEW_PRIVS"); return 2; }
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) { perror("PR_SET_SECCOMP"); return 2; }
  execvp(argv[4], &argv[4]);
  perror(argv[4]);
  return 127;
}
