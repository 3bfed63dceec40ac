// placeholder until the event loop lands
int main() { return 0; }
