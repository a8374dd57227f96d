#include <iostream>
#include <vector>
int main() {
	std::vector<char> v(256u << 20, 1);
	std::cout << int(v.back()) << "\n";
}
