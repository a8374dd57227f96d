// time limit: loops forever when n > 4
#include <cstdio>
#include <iostream>
int main() {
	int n; double x, s = 0;
	std::cin >> n;
	for (int i = 0; i < n; i++) { std::cin >> x; s += x; }
	volatile unsigned long spin = 0; if (n > 4) for (;;) spin++;
	std::printf("%.9f\n", s / (n));
}
