#include <gtest/gtest.h>
int placeholder_c;
