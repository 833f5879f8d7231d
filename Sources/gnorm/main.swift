print("gnorm")
