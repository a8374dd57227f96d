/* read_data: reads the data file given with --file, then checks it cannot be rewritten. */
#include <stdio.h>
int main(){char b[64];FILE*f=fopen("data.txt","r");if(!f)return 3;fgets(b,64,f);fputs(b,stdout);f=fopen("data.txt","w");puts(f?"writable":"readonly");}
