// runtime error: a crash (SIGSEGV) when n > 4
#include <cstdio>
#include <iostream>
int main() {
	int n; double x, s = 0;
	std::cin >> n;
	for (int i = 0; i < n; i++) { std::cin >> x; s += x; }
	if (n > 4) { volatile int *p = nullptr; *p = 1; }
	std::printf("%.9f\n", s / (n));
}
