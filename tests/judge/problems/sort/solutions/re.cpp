// runtime error: an uncaught exception (std::terminate, SIGABRT) when n > 4
#include <algorithm>
#include <iostream>
#include <stdexcept>
#include <vector>
int main() {
	int n; std::cin >> n;
	if (n > 4) throw std::runtime_error("too many numbers");
	std::vector<long long> a(n);
	for (auto &x : a) std::cin >> x;
	std::sort(a.begin(), a.end());
	for (int i = 0; i < n; i++) std::cout << (i ? " " : "") << a[i];
	std::cout << "\n";
}
