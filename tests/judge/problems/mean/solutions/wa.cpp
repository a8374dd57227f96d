// wrong answer: divides by n + 1
#include <cstdio>
#include <iostream>
int main() {
	int n; double x, s = 0;
	std::cin >> n;
	for (int i = 0; i < n; i++) { std::cin >> x; s += x; }
	
	std::printf("%.9f\n", s / (n + 1));
}
