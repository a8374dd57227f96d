// wrong answer: a 32-bit sum overflows on test 03
#include <iostream>
int main() {
	int n; long long x; unsigned s = 0;
	std::cin >> n;
	for (int i = 0; i < n; i++) { std::cin >> x; s += (unsigned)x; }
	std::cout << (int)s << "\n";
}
