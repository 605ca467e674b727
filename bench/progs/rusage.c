// rusage.c — run a command and write its own peak memory to a file, for bench/manage.bench.ts.
//
//   rusage OUT CMD [ARG...]     writes "<max RSS in KiB>\n" to OUT; exits as CMD did
//
// The peak of that one process tree's leader (wait4's ru_maxrss), which a runtime's own child
// accounting cannot give: getrusage(RUSAGE_CHILDREN) keeps the largest child ever waited for.
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: rusage OUT CMD [ARG...]\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("rusage: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror("rusage: exec");
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("rusage: wait4");
		return 1;
	}
	FILE *f = fopen(argv[1], "w");
	if (!f) {
		perror("rusage: OUT");
		return 1;
	}
	fprintf(f, "%ld\n", ru.ru_maxrss);
	fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
