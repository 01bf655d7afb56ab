#include <gtest/gtest.h>
int placeholder_b;
