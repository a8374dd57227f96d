// time limit: permutation sort, n! steps on the 14 numbers of test 05
#include <algorithm>
#include <iostream>
#include <numeric>
#include <vector>
int main() {
	int n; std::cin >> n;
	std::vector<long long> a(n);
	for (auto &x : a) std::cin >> x;
	std::vector<int> p(n);
	std::iota(p.begin(), p.end(), 0);
	do {
		bool ok = true;
		for (int i = 0; i + 1 < n; i++) if (a[p[i]] > a[p[i + 1]]) { ok = false; break; }
		if (ok) break;
	} while (std::next_permutation(p.begin(), p.end()));
	for (int i = 0; i < n; i++) std::cout << (i ? " " : "") << a[p[i]];
	std::cout << "\n";
}
