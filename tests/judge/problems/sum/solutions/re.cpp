// runtime error: exit status 3 when n > 4
#include <cstdlib>
#include <iostream>
int main() {
	int n; long long x, s = 0;
	std::cin >> n;
	for (int i = 0; i < n; i++) { std::cin >> x; s += x; }
	if (n > 4) std::exit(3);
	std::cout << s << "\n";
}
