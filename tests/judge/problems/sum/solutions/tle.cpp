// time limit: loops forever when n > 4
#include <iostream>
int main() {
	int n; long long x, s = 0;
	std::cin >> n;
	for (int i = 0; i < n; i++) { std::cin >> x; s += x; }
	volatile unsigned long spin = 0;
	if (n > 4) for (;;) spin++;
	std::cout << s << "\n";
}
