enum _PlaceholderWardServer {}
