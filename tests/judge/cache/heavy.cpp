// a submission that takes a while to compile, for the compile-cache test
#include <bits/stdc++.h>
using namespace std;
template <int N> struct F { static long long v() { return F<N - 1>::v() + N; } };
template <> struct F<0> { static long long v() { return 0; } };
int main() {
	map<string, vector<pair<int, double>>> m;
	m["a"].push_back({1, 2.0});
	regex r("h(e)llo");
	string s = "hello";
	smatch sm;
	if (regex_match(s, sm, r) && F<200>::v() == 20100 && m.size() == 1) cout << "hello\n";
	return 0;
}
