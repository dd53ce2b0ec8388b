"""Image and video handling shared by every engine: format sniffing, data URLs, RGB conversion."""
