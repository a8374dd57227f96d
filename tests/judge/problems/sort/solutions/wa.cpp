// wrong answer: drops duplicates (test 01 has two 3s)
#include <algorithm>
#include <iostream>
#include <vector>
int main() {
	int n; std::cin >> n;
	std::vector<long long> a(n);
	for (auto &x : a) std::cin >> x;
	std::sort(a.begin(), a.end());
	a.erase(std::unique(a.begin(), a.end()), a.end());
	for (size_t i = 0; i < a.size(); i++) std::cout << (i ? " " : "") << a[i];
	std::cout << "\n";
}
